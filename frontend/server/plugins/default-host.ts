/**
 * Nitro's node server listens on every interface when neither NITRO_HOST nor HOST is set; Resemble's
 * default is loopback (put a reverse proxy in front to publish it). Plugins run while the server entry
 * creates the app, before it reads the host, so setting the default here takes effect.
 */
export default defineNitroPlugin(() => {
  if (!process.env.NITRO_HOST && !process.env.HOST) process.env.NITRO_HOST = '127.0.0.1';
});
