import herald from "../../../package.json" with { type: "json" };

/** Herald's version, as the repository's package.json states it: the OpenAPI document and the User-Agent say it. */
export const version: string = herald.version;
