/**
 * Entry point of `npm start` and of the containers' command: reads the configuration once and starts what ROLE names
 * (launch.ts). A failed start prints one line saying what is wrong and what to do (the API's startup-failure.ts),
 * never a stack trace, and exits 1.
 */
import { startupFailureLine } from '@carecircle/api';
import { loadConfig, type Config } from '@carecircle/config';
import { createLogger } from '@carecircle/log';
import { launch } from './launch';
import { collectStartupGarbage } from './startup-garbage';

/** The configuration once read: a failure after that is explained in its terms (which port, which database). */
let config: Config | undefined;

async function main(): Promise<void> {
  config = loadConfig(process.env, { keepDevelopmentAdminToken: true });
  await launch(config, createLogger(config.logLevel, { role: config.role }));
  collectStartupGarbage();
}

main().catch((err: unknown) => {
  process.stderr.write(`${startupFailureLine(err, config)}\n`);
  process.exit(1);
});
