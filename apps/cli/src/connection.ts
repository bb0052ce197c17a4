import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { Herald } from "@herald/sdk";
import { UsageError } from "./exit.ts";

/**
 * Where Herald is and which key to use: flags first, then HERALD_URL / HERALD_API_KEY /
 * HERALD_MERCHANT, then the profile (HERALD_PROFILE or `default`) in the profile file.
 */

export interface Profile {
  url?: string;
  api_key?: string;
  merchant?: string;
}

export interface GlobalOptions {
  url?: string;
  apiKey?: string;
  profile?: string;
  merchant?: string;
  json?: boolean;
}

export const profileFile = () =>
  process.env.HERALD_CONFIG ??
  join(process.env.XDG_CONFIG_HOME ?? join(homedir(), ".config"), "herald", "profiles.json");

export function readProfiles(): Record<string, Profile> {
  const file = profileFile();
  if (!existsSync(file)) return {};
  try {
    return (JSON.parse(readFileSync(file, "utf8")) as { profiles?: Record<string, Profile> }).profiles ?? {};
  } catch {
    throw new UsageError(`${file} is not valid JSON.`);
  }
}

export function saveProfile(name: string, profile: Profile): string {
  const file = profileFile();
  const profiles = { ...readProfiles(), [name]: profile };
  mkdirSync(dirname(file), { recursive: true });
  // The file holds API keys: readable by its owner only.
  writeFileSync(file, `${JSON.stringify({ profiles }, null, 2)}\n`, { mode: 0o600 });
  return file;
}

function profileOf(options: GlobalOptions): Profile {
  const name = options.profile ?? process.env.HERALD_PROFILE;
  const profiles = readProfiles();
  if (name && !profiles[name]) throw new UsageError(`No profile "${name}" in ${profileFile()}.`);
  return profiles[name ?? "default"] ?? {};
}

/** Herald's URL and the key to use. */
export function settings(options: GlobalOptions): { url: string; apiKey: string } {
  const profile = profileOf(options);
  const url = options.url ?? process.env.HERALD_URL ?? profile.url;
  const apiKey = options.apiKey ?? process.env.HERALD_API_KEY ?? profile.api_key;
  if (!url) throw new UsageError("Where is Herald? Set HERALD_URL, pass --url, or save a profile.");
  if (!apiKey) throw new UsageError("No API key: set HERALD_API_KEY, pass --api-key, or save a profile.");
  return { url: url.replace(/\/+$/, ""), apiKey };
}

export function connect(options: GlobalOptions): Herald {
  const { url, apiKey } = settings(options);
  return new Herald({ baseUrl: url, apiKey });
}

/** The merchant a command acts on. */
export function merchantOf(options: GlobalOptions): string {
  const merchant = options.merchant ?? process.env.HERALD_MERCHANT ?? profileOf(options).merchant;
  if (!merchant) throw new UsageError("Which merchant? Pass --merchant, or set HERALD_MERCHANT.");
  return merchant;
}
