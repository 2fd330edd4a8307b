import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createVariableSnapshot, parsePipeline, resolveRunTimeVariables, secretReferences } from '../../../pipeline';
import { parseErrors, parseValid } from './fixtures';

/** The first script line of a one-step pipeline whose script is `script` (YAML single-quoted). */
function scriptOf(
  script: string,
  options: {
    vars?: Record<string, string>;
    system?: Record<string, string>;
    globalEnv?: string;
    jobEnv?: string;
    stepEnv?: string;
  } = {},
): string {
  const source = [
    'name: vars',
    options.globalEnv ? `global_env: ${options.globalEnv}` : '',
    'jobs:',
    '  build:',
    options.jobEnv ? `    environment: ${options.jobEnv}` : '',
    '    steps:',
    `      - name: s`,
    options.stepEnv ? `        environment: ${options.stepEnv}` : '',
    `        script: '${script.replace(/'/g, "''")}'`,
    '',
  ]
    .filter((line) => line !== '')
    .join('\n');
  return parseValid(source, { vars: options.vars, system: options.system }).jobs[0]?.steps[0]?.script[0] ?? '';
}

describe('substitution forms', () => {
  test('${VAR} substitutes the value', () => {
    assert.equal(scriptOf('echo ${BRANCH_NAME}', { vars: { BRANCH_NAME: 'main' } }), 'echo main');
  });

  test('${VAR:-default} uses the default when the variable is unset or empty', () => {
    assert.equal(scriptOf('sleep ${TIMEOUT:-300}'), 'sleep 300');
    assert.equal(scriptOf('sleep ${TIMEOUT:-300}', { vars: { TIMEOUT: '' } }), 'sleep 300');
    assert.equal(scriptOf('sleep ${TIMEOUT:-300}', { vars: { TIMEOUT: '5' } }), 'sleep 5');
  });

  test('${VAR:+alt} gives the alternate only when the variable is set and non-empty', () => {
    assert.equal(scriptOf('make ${DEBUG:+--verbose}', { vars: { DEBUG: 'true' } }), 'make --verbose');
    assert.equal(scriptOf('make ${DEBUG:+--verbose}'), 'make ');
  });

  test('${VAR/pattern/replacement} replaces the first match, ${VAR//pattern/replacement} every match', () => {
    const vars = { BRANCH_NAME: 'feature/login/v2' };
    assert.equal(scriptOf('echo ${BRANCH_NAME/\\//-}', { vars }), 'echo feature-login/v2');
    assert.equal(scriptOf('echo ${BRANCH_NAME//\\//-}', { vars }), 'echo feature-login-v2');
    assert.equal(scriptOf('echo ${BRANCH_NAME///-}', { vars }), 'echo feature-login-v2');
    assert.equal(scriptOf('echo ${BRANCH_NAME/login}', { vars }), 'echo feature//v2');
  });

  test('defaults nest: ${A:-${B:-deep}}', () => {
    assert.equal(scriptOf('echo ${A:-${B:-deep}}'), 'echo deep');
    assert.equal(scriptOf('echo ${A:-${B:-deep}}', { vars: { B: 'b' } }), 'echo b');
  });

  test('$${NAME} is a literal ${NAME} for the shell and $NAME is left alone', () => {
    const template = scriptOf('echo $${HOME} $HOME $$');
    assert.equal(template, 'echo $${HOME} $HOME $$');
    assert.equal(resolveRunTimeVariables(template, { system: {} }).text, 'echo ${HOME} $HOME $$');
  });

  test('values that contain references resolve recursively (nested variables)', () => {
    assert.equal(
      scriptOf('cp x ${FILE}', { globalEnv: '{BASE: /tmp, FILE: "${BASE}/test.log"}' }),
      'cp x /tmp/test.log',
    );
    assert.equal(
      scriptOf('echo ${TAG}', { globalEnv: '{env: prod, version: "1.0", TAG: "${env}-${version}"}' }),
      'echo prod-1.0',
    );
  });

  test('an entry may extend a lower layer’s value of the same name', () => {
    const pipeline = parseValid(
      'name: p\nglobal_env: {PATH: /usr/bin}\njobs:\n  a:\n    environment: {PATH: "${PATH}:/opt/bin"}\n    steps: [{name: s, script: "echo ${PATH}"}]\n',
    );
    assert.equal(pipeline.jobs[0]?.environment.PATH, '/usr/bin:/opt/bin');
    assert.equal(pipeline.jobs[0]?.steps[0]?.script[0], 'echo /usr/bin:/opt/bin');
  });

  test('a cycle is reported with its chain', () => {
    const errors = parseErrors(
      'name: p\nglobal_env: {A: "${B}", B: "${C}", C: "${A}"}\njobs: {a: {steps: [{name: s, script: x}]}}\n',
    );
    assert.equal(errors[0]?.code, 'variable_cycle');
    assert.match(errors[0]?.message ?? '', /A → B → C → A/);
  });

  test('an undefined variable names the available ones and suggests the closest', () => {
    const [error] = parseErrors(
      'name: p\nglobal_env: {OUTPUT_DIR: out}\njobs: {a: {steps: [{name: s, script: "ls ${OUTPUT_DR}"}]}}\n',
    );
    assert.equal(error?.code, 'undefined_variable');
    assert.match(error?.message ?? '', /undefined variable 'OUTPUT_DR' \(did you mean 'OUTPUT_DIR'\?\)/);
    assert.match(error?.hint ?? '', /Available: .*OUTPUT_DIR/);
  });

  test('a typed field gets its type back after substitution (timeout, retry_count)', () => {
    const pipeline = parseValid(
      'name: p\njobs: {a: {timeout: "${T}", steps: [{name: s, script: x, retry_count: "${R}"}]}}\n',
      { vars: { T: '15m', R: '2' } },
    );
    assert.equal(pipeline.jobs[0]?.timeoutSeconds, 900);
    assert.equal(pipeline.jobs[0]?.steps[0]?.retryCount, 2);
    const [error] = parseErrors('name: p\njobs: {a: {steps: [{name: s, script: x, retry_count: "${R}"}]}}\n', {
      vars: { R: 'many' },
    });
    assert.match(error?.message ?? '', /expected a number, got the string 'many'/);
  });
});

describe('precedence: --var > step env > job env > global_env > system > default', () => {
  const layers = { globalEnv: '{V: global}', jobEnv: '{V: job}', stepEnv: '{V: step}' };

  test('each layer overrides the ones below it', () => {
    assert.equal(scriptOf('${V:-default}'), 'default');
    assert.equal(scriptOf('${V:-default}', { system: { V: 'system' } }), 'system');
    assert.equal(scriptOf('${V}', { system: { V: 'system' }, globalEnv: layers.globalEnv }), 'global');
    assert.equal(scriptOf('${V}', { globalEnv: layers.globalEnv, jobEnv: layers.jobEnv }), 'job');
    assert.equal(scriptOf('${V}', layers), 'step');
    assert.equal(scriptOf('${V}', { ...layers, vars: { V: 'runtime' } }), 'runtime');
  });

  test('a --var also wins in the container environment over an entry of the same name', () => {
    const pipeline = parseValid(
      'name: p\nglobal_env: {V: g}\njobs: {a: {environment: {V: j}, steps: [{name: s, script: x, environment: {V: s}}]}}\n',
      { vars: { V: 'cli' } },
    );
    assert.equal(pipeline.globalEnv.V, 'cli');
    assert.equal(pipeline.jobs[0]?.environment.V, 'cli');
    assert.equal(pipeline.jobs[0]?.steps[0]?.environment.V, 'cli');
  });

  test('built-in system variables: CI, CONVEYOR_PIPELINE, CONVEYOR_JOB, CONVEYOR_STEP', () => {
    assert.equal(scriptOf('${CI} ${CONVEYOR_PIPELINE} ${CONVEYOR_JOB} ${CONVEYOR_STEP}'), 'true vars build s');
  });

  test('variables do not leak between jobs', () => {
    const errors = parseErrors(
      'name: p\njobs:\n  a: {environment: {ONLY_A: 1}, steps: [{name: s, script: x}]}\n  b: {steps: [{name: s, script: "echo ${ONLY_A}"}]}\n',
    );
    assert.equal(errors[0]?.path, 'jobs.b.steps[0].script');
  });
});

describe('run-time values and secrets', () => {
  test('run-time system variables stay symbolic until the run supplies them', () => {
    const template = scriptOf('echo ${CONVEYOR_RUN_ID} ${CONVEYOR_RUN_NUMBER:-0}');
    assert.equal(template, 'echo ${CONVEYOR_RUN_ID} ${CONVEYOR_RUN_NUMBER:-0}');
    assert.deepEqual(resolveRunTimeVariables(template, { system: { CONVEYOR_RUN_ID: 'run-7' } }), {
      text: 'echo run-7 0',
      missing: [],
    });
    assert.deepEqual(resolveRunTimeVariables(template, { system: {} }).missing, ['${CONVEYOR_RUN_ID}']);
  });

  test('a run-time variable supplied at parse time is substituted then', () => {
    assert.equal(scriptOf('echo ${CONVEYOR_RUN_ID}', { system: { CONVEYOR_RUN_ID: 'r1' } }), 'echo r1');
  });

  test('secrets are never resolved into the model, and resolve only when secrets are given', () => {
    const source =
      'name: p\njobs: {a: {steps: [{name: s, script: "deploy --token ${secrets.API_KEY}", environment: {TOKEN: "${{ secrets.API_KEY }}"}}]}}\n';
    const pipeline = parseValid(source);
    const step = pipeline.jobs[0]?.steps[0];
    assert.equal(step?.script[0], 'deploy --token ${secrets.API_KEY}');
    assert.equal(step?.environment.TOKEN, '${secrets.API_KEY}');
    assert.deepEqual(secretReferences(step?.environment.TOKEN ?? ''), ['API_KEY']);
    assert.equal(
      resolveRunTimeVariables(step?.environment.TOKEN ?? '', { system: {}, secrets: { API_KEY: 'sk_live_abc123' } })
        .text,
      'sk_live_abc123',
    );
    assert.ok(!JSON.stringify(pipeline).includes('sk_live'));
  });

  test('a --var holding ${…} text stays literal and cannot smuggle a reference in', () => {
    const template = scriptOf('echo ${V}', { vars: { V: '${secrets.TOKEN}' } });
    const final = resolveRunTimeVariables(template, { system: {}, secrets: { TOKEN: 'leaked' } });
    assert.equal(final.text, 'echo ${secrets.TOKEN}');
  });

  test('the variable snapshot records vars, system values and resolved environments, but no secret values', () => {
    const source =
      'name: p\nglobal_env: {G: "${X}"}\njobs: {a: {environment: {K: v}, steps: [{name: s, script: x, environment: {T: "${secrets.T}"}}]}}\n';
    const pipeline = parseValid(source, { vars: { X: 'x1' } });
    const snapshot = createVariableSnapshot(pipeline, { CONVEYOR_RUN_ID: 'run-1' });
    assert.deepEqual(snapshot, {
      vars: { X: 'x1' },
      system: { CONVEYOR_RUN_ID: 'run-1' },
      globalEnv: { G: 'x1' },
      jobs: { a: { environment: { K: 'v' }, steps: { s: { T: '${secrets.T}' } } } },
    });
    const again = parsePipeline(source, { vars: snapshot.vars, system: snapshot.system });
    assert.equal(again.valid, true);
    assert.deepEqual(again.valid && again.pipeline, pipeline);
  });

  test('${{ }} in a field is evaluated at parse time against env, vars and matrix', () => {
    assert.equal(
      scriptOf("echo ${{ format('{0}-{1}', vars.A, env.B) }}", { vars: { A: 'a' }, globalEnv: '{B: b}' }),
      'echo a-b',
    );
  });

  test('needs and status functions are refused outside if:', () => {
    const errors = parseErrors(
      'name: p\njobs: {a: {steps: [{name: s, script: "echo ${{ needs.x.result }} ${{ success() }}"}]}}\n',
    );
    assert.deepEqual(
      errors.map((error) => error.code),
      ['expression_context', 'expression_context'],
    );
  });
});
