/** `oom`: the container ran out of memory (exit 137 with Docker's OOM flag, or the kernel said so). */
import { exitFact, fail, inconclusive, pass, quote, type CauseModule } from '../cause';

export const oom: CauseModule = {
  cause: 'oom',
  description: 'The step ran out of memory and the kernel killed it.',
  testPlan: "Read the container's exit code and OOM flag; search the output for out-of-memory messages.",
  dataNeeded: ['exit', 'logs'],
  passRule: 'The run reports oom_killed (exit 137 with the OOM flag), or the output says it ran out of memory.',
  failRule: 'The exit is not 137 and no line mentions running out of memory.',
  logPatterns: ['out of memory', 'oom-?kill', 'cannot allocate memory', 'memoryerror', 'heap out of memory'],
  weight: 95,
  prior: (frame) => (frame.reason === 'oom_killed' ? 1 : frame.exitCode === 137 ? 0.6 : 0.1),
  decide(frame, probes) {
    const memory = frame.memoryBytes ? `memory limit ${Math.round(frame.memoryBytes / 1048576)} MiB` : undefined;
    if (frame.reason === 'oom_killed') return pass(0.95, exitFact(frame), ...[memory].filter((m) => m !== undefined));
    if (probes.logMatches.length > 0) return pass(0.7, ...probes.logMatches.map(quote), exitFact(frame));
    if (frame.exitCode === 137) return inconclusive(`${exitFact(frame)}: SIGKILL without the OOM flag`);
    return fail(`${exitFact(frame)}, not 137`, `no line of ${probes.linesSearched} mentions memory`);
  },
  remediation: "Raise the job's `resources.memory`, or make the step use less memory.",
  action: 'rerun_more_memory',
};
