// `node bench/profile.ts <file.cpuprofile>…`: where a profiled Herald process spent its CPU, by
// function (self time) and by package, to find the bottleneck behind a missed target.
import { readFile } from "node:fs/promises";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where in the code a frame is: a package name, or a path inside this repository. */
function place(url: string): string {
  if (!url) return "(native/V8)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith("node:")) return "node core";
  const local = /\/(apps|packages)\/([^/]+)\//.exec(url);
  return local ? `${local[1]}/${local[2]}` : url.replace(/^file:\/\//, "");
}

export async function summarize(path: string, top = 25): Promise<string> {
  const profile = JSON.parse(await readFile(path, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  // Native and Node-internal work (a socket write, a hash) is charged to the package that asked for it.
  const owner = (id: number): string => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const url = byId.get(at)!.callFrame.url;
      if (url && !url.startsWith("node:")) return place(url);
    }
    return byId.get(id)!.callFrame.url ? "node core" : place("");
  };
  const selfUs = new Map<number, number>();
  for (const [i, id] of profile.samples.entries()) {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const totalUs = profile.endTime - profile.startTime;
  const byFunction = new Map<string, number>();
  const byPlace = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    const name = `${frame.functionName || "(anonymous)"} ${place(frame.url)}${frame.url ? `:${frame.lineNumber + 1}` : ""}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    if (frame.functionName === "(idle)") continue;
    byPlace.set(owner(id), (byPlace.get(owner(id)) ?? 0) + us);
  }
  const share = (us: number) => `${((100 * us) / totalUs).toFixed(1).padStart(5)} %`;
  const sorted = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => `  ${share(us)}  ${name}`);
  return [
    `${path}: ${(totalUs / 1e6).toFixed(1)} s profiled`,
    "by package (self time; native and node-core work charged to the package that called it; idle left out):",
    ...sorted(byPlace, 12),
    "by function (self time):",
    ...sorted(byFunction, top),
  ].join("\n");
}

if (import.meta.main) {
  for (const path of process.argv.slice(2)) console.log(`${await summarize(path)}\n`);
}
