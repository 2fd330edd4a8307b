/** `network_unreachable`: the step needed a network it could not reach. */
import { fail, pass, quote, type CauseModule } from '../cause';

export const networkUnreachable: CauseModule = {
  cause: 'network_unreachable',
  description:
    "The step needed the network (a download, a service) and could not reach it: the job's network is isolated or none.",
  testPlan: "Search the output for DNS and connection errors; read the job's network mode.",
  dataNeeded: ['logs', 'definition'],
  passRule: 'A line reports a name-resolution or connection failure.',
  failRule: 'No line reports a network failure.',
  logPatterns: [
    'could not resolve',
    'temporary failure in name resolution',
    'name or service not known',
    'network is unreachable',
    'connection refused',
    'connection timed out',
    'enotfound',
    'econnrefused',
    'getaddrinfo',
    'no route to host',
    'bad address',
  ],
  weight: 74,
  prior: () => 0.15,
  decide(frame, probes) {
    if (probes.logMatches.length === 0) return fail(`no line of ${probes.linesSearched} reports a network failure`);
    const mode = frame.network ? `the job's network is '${frame.network}'` : 'network mode unknown';
    return pass(0.8, ...probes.logMatches.map(quote), mode);
  },
  remediation:
    'Jobs run on an isolated network with no route outside by default (docs/runs.md): give the job `network: egress` when it must download (npm ci, pip install), or vendor the dependency as an artifact.',
  action: 'none',
};
