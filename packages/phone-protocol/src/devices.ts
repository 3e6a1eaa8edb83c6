export interface DeviceRecord {
  deviceId: string;
  userId: string;
  /**
   * The owner's tenant (the server's enterprise number), when users belong to tenants: a device is owned by
   * (tenant, user), so a user moved to another tenant does not take its devices along.
   */
  tenant?: string;
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

/** Whether two records name the same owner: same user and same tenant (both absent counts as the same). */
export function sameOwner(a: Pick<DeviceRecord, 'userId' | 'tenant'>, b: Pick<DeviceRecord, 'userId' | 'tenant'>) {
  return a.userId === b.userId && (a.tenant ?? null) === (b.tenant ?? null);
}

/** Port: registered devices and their last known health. */
export interface DeviceRegistry {
  get(deviceId: string): Promise<DeviceRecord | undefined>;
  /** Inserts or replaces the whole record (the caller has checked ownership). */
  put(record: DeviceRecord): Promise<void>;
  /**
   * Atomically stores `record` if the device is new or already owned by the same (tenant, user); returns false
   * and changes nothing when another owner holds it (only {@link DeviceRegistry.release} frees it).
   */
  claim(record: DeviceRecord): Promise<boolean>;
  /** Removes the device (an operator's release); returns the removed record. */
  release(deviceId: string): Promise<DeviceRecord | undefined>;
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
  async claim(record: DeviceRecord): Promise<boolean> {
    const current = this.devices.get(record.deviceId);
    if (current && !sameOwner(current, record)) return false;
    this.devices.set(record.deviceId, structuredClone(record));
    return true;
  }
  async release(deviceId: string): Promise<DeviceRecord | undefined> {
    const current = this.devices.get(deviceId);
    this.devices.delete(deviceId);
    return current;
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
