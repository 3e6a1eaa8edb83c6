/** A registered Android device and its last reported health. */
export interface DeviceRecord {
  /** The app's device id (`device_id`). */
  deviceId: string;
  /** The owner. */
  userId: string;
  /**
   * The owner's tenant (the server's enterprise number), when users belong to tenants: a device is owned by
   * (tenant, user), so a user moved to another tenant does not take its devices along.
   */
  tenant?: string;
  /** Human-readable name sent at registration. */
  deviceName?: string;
  /** Firebase push token sent at registration (non-empty only). */
  fcmToken?: string;
  /** App version sent at registration or heartbeat. */
  appVersion?: string;
  /** First registration (epoch ms). */
  registeredAt: number;
  /** Any request from the device (register, poll, heartbeat, update, telemetry). */
  lastSeenAt: number;
  /** Last heartbeat (epoch ms). */
  lastHeartbeatAt?: number;
  /** Last long-poll as the device reported it (epoch ms). */
  lastPollAt?: number;
  /** HTTP status of the device's last long-poll, as it reported it. */
  lastPollCode?: number;
  /** Whether the app encrypts its local queue (heartbeat). */
  encryptionEnabled?: boolean;
  /** The app's outgoing queue has items it cannot send (heartbeat). */
  queueStuck: boolean;
  /** How many queued items are stuck. */
  stuckCount: number;
  /** Age of the oldest stuck item, in seconds. */
  oldestStuckAgeSec?: number;
  /** Stuck items per type (`call_update`, `telemetry`, …). */
  stuckByType: Record<string, number>;
}

/** Whether two records name the same owner: same user and same tenant (both absent counts as the same). */
export function sameOwner(a: Pick<DeviceRecord, 'userId' | 'tenant'>, b: Pick<DeviceRecord, 'userId' | 'tenant'>) {
  return a.userId === b.userId && (a.tenant ?? null) === (b.tenant ?? null);
}

/** Port: registered devices and their last known health. */
export interface DeviceRegistry {
  /** The device's record, or `undefined`. */
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
  /** Devices of one user. */
  listByUser(userId: string): Promise<DeviceRecord[]>;
  /** Every device (admin views, online counts). */
  list(): Promise<DeviceRecord[]>;
}

/**
 * Copy of a record that shares nothing mutable with the original (its only nested value is `stuckByType`).
 * A spread instead of `structuredClone`: every poll reads and writes its device, and this is ~10x cheaper.
 */
function copyDevice(record: DeviceRecord): DeviceRecord {
  return { ...record, stuckByType: { ...record.stuckByType } };
}

/** Single-process {@link DeviceRegistry}. */
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
