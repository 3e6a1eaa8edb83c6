export interface DeviceRecord {
  deviceId: string;
  userId: string;
  deviceName?: string;
  fcmToken?: string;
  appVersion?: string;
  registeredAt: number;
  /** Any request from the device (register, poll, heartbeat, update, telemetry). */
  lastSeenAt: number;
  lastHeartbeatAt?: number;
  lastPollAt?: number;
  lastPollCode?: number;
  encryptionEnabled?: boolean;
  queueStuck: boolean;
  stuckCount: number;
  oldestStuckAgeSec?: number;
  stuckByType: Record<string, number>;
}

/** Port: registered devices and their last known health. */
export interface DeviceRegistry {
  get(deviceId: string): Promise<DeviceRecord | undefined>;
  /** Inserts or replaces the whole record. */
  put(record: DeviceRecord): Promise<void>;
  listByUser(userId: string): Promise<DeviceRecord[]>;
  list(): Promise<DeviceRecord[]>;
}

export class InMemoryDeviceRegistry implements DeviceRegistry {
  private readonly devices = new Map<string, DeviceRecord>();
  async get(deviceId: string): Promise<DeviceRecord | undefined> {
    const record = this.devices.get(deviceId);
    return record ? structuredClone(record) : undefined;
  }
  async put(record: DeviceRecord): Promise<void> {
    this.devices.set(record.deviceId, structuredClone(record));
  }
  async listByUser(userId: string): Promise<DeviceRecord[]> {
    return [...this.devices.values()].filter((d) => d.userId === userId).map((d) => structuredClone(d));
  }
  async list(): Promise<DeviceRecord[]> {
    return [...this.devices.values()].map((d) => structuredClone(d));
  }
}

/** Devices seen within `windowMs` (default 90 s: a long-poll is at most 30 s, so a live device is seen often). */
export async function listOnlineDevices(
  registry: DeviceRegistry,
  now: number,
  windowMs = 90_000,
): Promise<DeviceRecord[]> {
  return (await registry.list()).filter((d) => now - d.lastSeenAt <= windowMs);
}
