/** Setup file of the backend-pg project: the file's shared PostgreSQL stops when the file is done. */
import { afterAll } from 'vitest';
import { stopSharedPostgres } from './postgres-server.js';

afterAll(() => stopSharedPostgres());
