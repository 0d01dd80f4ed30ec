/**
 * The admin token `npm start` uses and the README prints. Published, so outside local dev the admin
 * API refuses to run with it (src/admin/auth.ts).
 */
export const DEV_ADMIN_TOKEN = "dev-admin-token";
