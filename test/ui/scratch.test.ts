import { it } from "vitest";
import { startTestHerald } from "../support/herald.ts";
it("scratch", async () => {
  const herald = await startTestHerald();
  for (const path of ["/ui/sign-in", "/ui", "/ui/assets/app.js"]) {
    const r = await fetch(herald.url + path, { redirect: "manual" });
    console.log(path, r.status, [...r.headers].map(([k, v]) => `${k}: ${v}`).join("\n"), (await r.text()).slice(0, 300));
  }
  await herald.stop();
}, 60000);
