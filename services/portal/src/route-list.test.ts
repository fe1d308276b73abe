/** The route list reads nested routers and every method of a route. */
import express from 'express';
import { listRoutes } from './route-list';

test('lists routes of nested routers mounted without a path, with their methods', () => {
  const root = express.Router();
  root.get('/', (_req, res) => res.end());
  const inner = express.Router();
  inner.get('/a/:id', (_req, res) => res.end());
  inner.post('/a/:id', (_req, res) => res.end());
  root.use(inner);
  root.use('/assets', express.static('/nonexistent'));
  expect(listRoutes(root)).toEqual([
    { method: 'GET', path: '/' },
    { method: 'GET', path: '/a/:id' },
    { method: 'POST', path: '/a/:id' },
  ]);
});
