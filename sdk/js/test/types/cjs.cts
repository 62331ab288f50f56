// The CommonJS declarations (`require` condition of the package's exports) type-check too.
import sdk = require("speechtospeechai");

const client = new sdk.Client({ apiKey: "k" });
export const list: Promise<sdk.ModelList> = client.models.list();
export const isError: boolean = new sdk.NotFoundError("x", { status: 404 }) instanceof sdk.APIError;
