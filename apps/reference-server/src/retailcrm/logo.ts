/** Module logo: RetailCRM accepts SVG only. */
export const LOGO_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="12" fill="#1f6feb"/><path d="M20 18c3-2 6 0 8 4l2 4c1 2 0 4-2 5l-2 1c1 4 5 8 9 9l1-2c1-2 3-3 5-2l4 2c4 2 6 5 4 8-2 4-6 6-11 5-12-2-20-10-22-22-1-5 1-9 4-12z" fill="#fff"/></svg>';
