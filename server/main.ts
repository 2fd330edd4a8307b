/**
 * The server process the embedded stack starts (`conveyor dev up`): `conveyor serve` without the CLI around it.
 */
import { loadConfig } from '../workers/config';
import { serve } from './serve';

serve(loadConfig()).catch((error: unknown) => {
  console.error(`conveyor serve: ${(error as Error).message ?? String(error)}`);
  process.exit(1);
});
