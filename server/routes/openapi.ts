/** `GET /api/openapi.json`: the OpenAPI 3.1 document of every route, generated from their zod schemas. */
import type { RouteArea } from '../app';

export const openApiRoutes: RouteArea = async (app) => {
  app.get('/api/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());
};
