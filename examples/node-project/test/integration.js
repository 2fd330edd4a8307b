'use strict';
const assert = require('node:assert/strict');
const { mean } = require('../src/calculator');

const samples = Array.from({ length: 1000 }, (_, i) => i);
assert.equal(mean(samples), 499.5);
console.log('integration: 1 check passed');
