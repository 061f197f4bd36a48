// An application with no opsctl code, as it runs in the container: the image's
// NODE_OPTIONS preloads the endpoint (Dockerfile). It listens on all interfaces for its
// users; the endpoint stays on the pod's loopback (docs/kubernetes.md).
import { createServer } from 'node:http';

const orders = new Map([[1, 'teapot']]);
const server = createServer((_req, res) => res.end(`${orders.size} order(s)\n`));
server.listen(Number(process.env.PORT ?? 8080), '0.0.0.0', () => {
  console.log(JSON.stringify({ ready: true, app: `http://0.0.0.0:${server.address().port}`, pid: process.pid }));
});
// PID 1 in a container gets no default SIGTERM handling: stop on Kubernetes' signal.
process.once('SIGTERM', () => server.close(() => process.exit(0)));
