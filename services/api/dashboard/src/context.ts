// What every page is given: who is logged in, the served configuration, and the refresh loop.

import type { Live } from "./live";
import type { DashboardConfig } from "./types";

export interface Context {
  canWrite: boolean;
  config: DashboardConfig;
  live: Live;
}
