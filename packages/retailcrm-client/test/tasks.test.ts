import { describe, expect, it } from 'vitest';
import { RetailCrmApiError, RetailCrmValidationError } from '../src/index.js';
import { useFakeRetailCrm } from './setup.js';

const env = useFakeRetailCrm();

describe('tasks.create', () => {
  it('sends the task as one JSON form field with the site, and the fake records it with the returned id', async () => {
    const { client, fake } = env.start({ users: [{ id: 27 }] });
    const res = await client.tasks.create(
      {
        text: 'Call back +79991234567 (missed call)',
        performerId: 27,
        datetime: '2025-01-09 19:20',
        phone: '+79991234567',
        customer: { externalId: 'ru1067815391' },
      },
      { site: 'main' },
    );
    expect(res).toEqual({ success: true, id: 1 });
    const [request] = fake.requestsTo('/tasks/create', 'POST');
    expect(request?.form?.site).toBe('main');
    expect(JSON.parse(request?.form?.task as string)).toEqual({
      text: 'Call back +79991234567 (missed call)',
      performerId: 27,
      datetime: '2025-01-09 19:20',
      phone: '+79991234567',
      customer: { externalId: 'ru1067815391' },
    });
    expect(fake.state.tasks).toMatchObject([{ id: 1, performerId: 27, site: 'main', phone: '+79991234567' }]);
    await client.tasks.create({ text: 'Second', performerId: 27 });
    expect(fake.state.tasks.map((task) => task.id)).toEqual([1, 2]);
  });

  it('keeps unknown task fields (passed through to RetailCRM)', async () => {
    const { client, fake } = env.start({ users: [{ id: 27 }] });
    await client.tasks.create({ text: 'x', performerId: 27, performerType: 'user' });
    expect(fake.state.tasks[0]).toMatchObject({ performerType: 'user' });
  });

  it('rejects a task without text or performer before sending anything', async () => {
    const { client, fake } = env.start({ users: [{ id: 27 }] });
    await expect(client.tasks.create({ text: ' ', performerId: 27 })).rejects.toBeInstanceOf(RetailCrmValidationError);
    await expect(client.tasks.create({ text: 'x', performerId: 27, datetime: '2025-01-09 19:20:00' })).rejects.toThrow(
      /Y-m-d H:i/,
    );
    expect(fake.state.requests).toHaveLength(0);
  });

  it('an unknown performer is RetailCRM input error, nothing stored', async () => {
    const { client, fake } = env.start({ users: [{ id: 27 }] });
    const error = await client.tasks.create({ text: 'x', performerId: 99 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RetailCrmApiError);
    expect((error as RetailCrmApiError).status).toBe(400);
    expect(fake.state.tasks).toHaveLength(0);
  });

  it('is not replayed after a 500: a replay would create a second task', async () => {
    const { client, fake } = env.start({ users: [{ id: 27 }] });
    fake.failNext({ status: 500, path: '/tasks/create' });
    await expect(client.tasks.create({ text: 'x', performerId: 27 })).rejects.toBeInstanceOf(RetailCrmApiError);
    expect(fake.requestsTo('/tasks/create')).toHaveLength(1);
  });
});
