import type { FastifyInstance } from 'fastify'
import { checkDowntime, settingsSchema, type DeviceSettings, type SettingsStore } from './settings.ts'

/** The Settings screen's document: anyone on the LAN may read it; only the signed-in owner replaces it. */
export async function settingsRoutes(app: FastifyInstance, opts: { settings: SettingsStore }): Promise<void> {
  app.get(
    '/api/settings',
    { schema: { response: { 200: settingsSchema } } },
    async (): Promise<DeviceSettings> => await opts.settings.get()
  )

  app.put<{ Body: DeviceSettings }>(
    '/api/settings',
    { onRequest: app.requireOwner, schema: { body: settingsSchema, response: { 200: settingsSchema } } },
    async (request): Promise<DeviceSettings> => {
      checkDowntime(request.body.replication.downtime)
      await opts.settings.put(request.body)
      request.log.info({ settings: request.body }, 'settings saved')
      return await opts.settings.get()
    }
  )
}
