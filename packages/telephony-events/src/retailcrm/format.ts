/** `Y-m-d H:i:s` in UTC, RetailCRM's date-time format. */
export function formatRetailCrmDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}
