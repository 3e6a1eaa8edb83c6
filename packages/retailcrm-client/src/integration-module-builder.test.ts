import { describe, expect, it } from 'vitest';
import {
  buildTelephonyIntegrationModule,
  RetailCrmValidationError,
  type TelephonyIntegrationModuleInput,
} from './index.js';

const input: TelephonyIntegrationModuleInput = {
  code: 'callbridge-telephony',
  name: 'Callbridge',
  baseUrl: 'https://pbx.example.com',
  logoSvg: 'https://pbx.example.com/static/logo.svg?v=2',
  clientId: '0367',
  accountUrl: 'https://pbx.example.com/retailcrm-admin/?enterprise_number=0367&token=jwt',
  makeCallUrl: 'https://pbx.example.com/retailcrm/make-call',
  additionalCodes: [
    { userId: 19, code: '150' },
    { userId: '18', code: 151 },
  ],
  externalPhones: [{ siteCode: 'main', externalPhone: '+74950000000' }],
  active: true,
};

describe('buildTelephonyIntegrationModule', () => {
  it('puts telephony under integrations.telephony, never sends actions, keeps accountUrl as given', () => {
    const module = buildTelephonyIntegrationModule(input);
    expect(module).toEqual({
      code: 'callbridge-telephony',
      integrationCode: 'callbridge-telephony',
      active: true,
      name: 'Callbridge',
      logo: 'https://pbx.example.com/static/logo.svg?v=2',
      clientId: '0367',
      baseUrl: 'https://pbx.example.com',
      accountUrl: 'https://pbx.example.com/retailcrm-admin/?enterprise_number=0367&token=jwt',
      integrations: {
        telephony: {
          makeCallUrl: 'https://pbx.example.com/retailcrm/make-call',
          allowEdit: false,
          inputEventSupported: true,
          outputEventSupported: true,
          hangupEventSupported: true,
          additionalCodes: [
            { userId: '19', code: '150' },
            { userId: '18', code: '151' },
          ],
          externalPhones: [{ siteCode: 'main', externalPhone: '+74950000000' }],
        },
      },
    });
    expect('actions' in module).toBe(false);
  });

  it('accepts the user_extensions map and drops null (unassigned) entries', () => {
    const module = buildTelephonyIntegrationModule({
      ...input,
      additionalCodes: { '19': '150', '18': '151', '22': null },
    });
    // Integer-like keys iterate in ascending order.
    expect(module.integrations?.telephony?.additionalCodes).toEqual([
      { userId: '18', code: '151' },
      { userId: '19', code: '150' },
    ]);
  });

  it('turns raw <svg> markup into a data URI', () => {
    const module = buildTelephonyIntegrationModule({
      ...input,
      logoSvg: '<svg xmlns="http://www.w3.org/2000/svg"></svg>',
    });
    expect(module.logo).toMatch(/^data:image\/svg\+xml;base64,/);
  });

  it('refuses the seed failures with every problem listed', () => {
    let error: unknown;
    try {
      buildTelephonyIntegrationModule({
        ...input,
        logoSvg: 'https://pbx.example.com/logo.jpg',
        baseUrl: '',
        makeCallUrl: '/relative',
        additionalCodes: { '1': '150', '2': '150' },
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RetailCrmValidationError);
    expect((error as RetailCrmValidationError).issues).toEqual([
      'baseUrl: This value should not be blank',
      'makeCallUrl: must be an absolute http(s) URL',
      'logoSvg: Logo image must be svg (an .svg URL, a data:image/svg+xml URI or <svg> markup)',
      'additionalCodes: extension 150 is assigned to users 1 and 2',
    ]);
  });

  it('deactivation keeps the payload and flips active', () => {
    expect(buildTelephonyIntegrationModule({ ...input, active: false }).active).toBe(false);
  });
});
