import { Type } from "typebox";
import type { HeraldApp } from "../app.ts";
import { findOperation } from "../resources.ts";
import { answers, PathId } from "../schemas.ts";
import { OperationObject, operationView } from "../views.ts";

/** Background operations (an endpoint's recovery): their progress, read by polling. */
export async function operationRoutes(app: HeraldApp) {
  const { db } = app.herald;

  app.get(
    "/v1/merchants/:mid/operations/:opid",
    {
      schema: {
        tags: ["endpoints"],
        summary: "Get a background operation's progress",
        params: Type.Object({ mid: PathId, opid: PathId }),
        response: answers({ 200: OperationObject }),
      },
    },
    async (request) => operationView(await findOperation(db, request.scope, request.params.opid)),
  );
}
