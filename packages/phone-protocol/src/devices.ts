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

/**
 * Copy of a record that shares nothing mutable with the original (its only nested value is `stuckByType`).
 * A spread instead of `structuredClone`: every poll reads and writes its device, and this is ~10x cheaper.
 */
function copyDevice(record: DeviceRecord): DeviceRecord {
  return { ...record, stuckByType: { ...record.stuckByType } };
}

export class InMemoryDeviceRegistry implements DeviceRegistry {
  private readonly devices = new Map<string, DeviceRecord>();
  async get(deviceId: string): Promise<DeviceRecord | undefined> {
    const record = this.devices.get(deviceId);
    return record ? copyDevice(record) : undefined;
  }
  async put(record: DeviceRecord): Promise<void> {
    this.devices.set(record.deviceId, copyDevice(record));
  }
  async listByUser(userId: string): Promise<DeviceRecord[]> {
    return [...this.devices.values()].filter((d) => d.userId === userId).map(copyDevice);
  }
  async list(): Promise<DeviceRecord[]> {
    return [...this.devices.values()].map(copyDevice);
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
