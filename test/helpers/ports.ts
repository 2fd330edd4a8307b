/** Ports for tests: fixed ones from the test range, and free ones picked by the system. */
import net from 'node:net';

/**
 * Fixed ports for tests that need them (a second embedded stack): taken from `CONVEYOR_TEST_PORTS` (`FIRST-LAST`,
 * set where several stacks share one machine) when it is set, else the given defaults.
 */
export function testPorts<T extends Record<string, number>>(defaults: T): T {
  const range = /^(\d+)-(\d+)$/.exec(process.env.CONVEYOR_TEST_PORTS ?? '');
  if (!range) return defaults;
  const first = Number(range[1]);
  const names = Object.keys(defaults);
  if (first + names.length - 1 > Number(range[2])) throw new Error('CONVEYOR_TEST_PORTS holds too few ports');
  return Object.fromEntries(names.map((name, index) => [name, first + index])) as T;
}

/** A port free on 127.0.0.1 right now (the system picks it). */
export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
