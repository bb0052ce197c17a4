export { type Dispatcher, startDispatcher, userAgent } from "./dispatcher.ts";
