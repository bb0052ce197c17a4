import { type Config, ConfigError } from "@herald/config";

/** Reads the configuration, or explains what is wrong and exits with status 2. */
export function exitOnConfigError(load: () => Config): Config {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
}

/** SIGINT/SIGTERM stop the process cleanly; a second signal exits at once. */
export function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = async (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    console.error(`${signal}: stopping (in-flight attempts finish first)…`);
    await stop();
    process.exit(0);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}
