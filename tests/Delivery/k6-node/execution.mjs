import { execution } from "./state.mjs";

export default execution;
