// The REST API's answers, as the dashboard reads them (docs/api.md; the OpenAPI at /docs).

export type EventStatus = "scheduled" | "active" | "completed" | "stopped" | "cancelled";

export interface PlatformEvent {
  id: string;
  status: EventStatus;
  startTime: string;
  endTime: string;
  requestedReductionKw: number;
  actualReductionKw: number;
  venIds: string[] | null;
  createdAt: string | null;
  activatedAt: string | null;
  endedAt: string | null;
  stopRequestedAt: string | null;
  allocatedKw: number | null;
  unallocatedKw: number | null;
}

export interface EventMetrics {
  currentReductionKw: number;
  vensResponding: number;
  avgResponseMs: number;
}

export type LiveEvent = PlatformEvent & EventMetrics;

export interface EventCommands {
  sent: number;
  eventCommands: number;
  acked: number;
  rejected: number;
  failed: number;
  timedOut: number;
  pending: number;
  restores: number;
  restoresAcked: number;
  retries: number;
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
}

export interface EventAck {
  venId: string;
  venName: string | null;
  shedKw: number;
  actualShedKw: number | null;
  responseMs: number | null;
  status: string;
  attempts: number | null;
  ackedAt: string | null;
  circuitsCurtailed: Record<string, unknown>[];
  restoreStatus: string | null;
}

export interface EventAcks {
  totalCount: number;
  acks: EventAck[];
}

export interface DeliveryPoint {
  timestamp: string;
  deliveredKw: number;
  vensReporting: number;
}

export interface EventDelivery {
  stepSeconds: number;
  requestedReductionKw: number;
  points: DeliveryPoint[];
  /** Buckets before this are final: the next `start`. */
  settledUntil: string;
}

export interface Load {
  id: string | null;
  type: string | null;
  name: string | null;
  capacityKw: number | null;
  shedCapabilityKw: number | null;
  currentPowerKw: number | null;
  enabled: boolean | null;
}

export interface Ven {
  id: string;
  name: string;
  status: string;
  location: { lat: number; lon: number } | null;
  createdAt: string;
  lastSeen: string | null;
  loads: Load[];
  metrics: {
    currentPowerKw: number | null;
    shedAvailabilityKw: number | null;
    activeEventId: string | null;
    shedLoadIds: string[];
  };
}

export interface TelemetryPoint {
  timestamp: string;
  usedPowerKw: number;
  shedPowerKw: number | null;
  baselinePowerKw?: number | null;
}

export interface Telemetry {
  totalCount: number;
  telemetry: TelemetryPoint[];
}

export interface VenAck {
  eventId: string | null;
  timestamp: string;
  op: string;
  status: string;
  correlationId: string | null;
  requestedShedKw: number | null;
  actualShedKw: number | null;
}

export interface NetworkStats {
  venCount: number;
  onlineVens: number;
  controllablePowerKw: number;
  potentialLoadReductionKw: number;
  householdUsageKw: number;
  currentLoadReductionKw: number;
}

export interface LoadStats {
  type: string;
  totalCapacityKw: number;
  totalShedCapabilityKw: number;
  currentUsageKw: number;
}

export interface Freshness {
  now: string;
  newestReadingAt: string | null;
  projectedAt: string | null;
}

export interface WhoAmI {
  role: string;
  subject: string | null;
  authenticated: boolean;
}

export interface DashboardConfig {
  /** e.g. "http://127.0.0.1:8081/site/{venId}": the simulator's local page of a site. */
  sitePageUrl: string | null;
  refreshSeconds: number;
}
