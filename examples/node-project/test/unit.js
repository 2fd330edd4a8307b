'use strict';
const assert = require('node:assert/strict');
const { add, mean } = require('../src/calculator');

assert.equal(add(2, 3), 5);
assert.equal(mean([1, 2, 3, 4]), 2.5);
assert.throws(() => mean([]), RangeError);
console.log('unit: 3 checks passed');
