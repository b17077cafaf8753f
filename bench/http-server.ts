/**
 * The service on one database, in a process of its own (forked by bench/http.ts). Two Nest
 * applications in one process share passport's global strategy registry, so the second one's
 * bearer strategy (and its database) would authenticate the first one's requests.
 */
import 'reflect-metadata';
import { bootService, serviceSettings } from './http';

process.on('message', (message: { ownerUrl: string; prefix: string } | 'stop') => {
  if (message === 'stop') process.exit(0);
  bootService(serviceSettings(message.ownerUrl, message.prefix)).then(
    ({ url }) => process.send!({ url }),
    (error: Error) => process.send!({ error: error.message }, () => process.exit(1)),
  );
});
// The benchmark that forked this process died without saying stop: nobody will.
process.on('disconnect', () => process.exit(0));
