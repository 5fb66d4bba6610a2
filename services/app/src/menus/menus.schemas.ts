// TypeBox schemas of the admin menu routes; the menu rules themselves are checked by validateMenu.
import { Type } from 'typebox'

export const AdminKeyHeaders = Type.Object({
  'x-admin-key': Type.Optional(Type.String({ description: 'ADMIN_API_KEY' })),
})

// Buttons are deliberately loose here: validateMenu reports every broken rule at once (MENU_INVALID).
export const CreateMenuBody = Type.Object(
  {
    button: Type.Array(Type.Unknown(), {
      description: '1–3 buttons as WeChat menu/create takes them (click, view, miniprogram, …)',
    }),
  },
  { additionalProperties: true },
)

export const OkResponse = Type.Object({ ok: Type.Literal(true) })

export const GetMenuResponse = Type.Object({
  menu: Type.Union([Type.Object({ button: Type.Array(Type.Unknown()) }), Type.Null()], {
    description: 'The menu created through the API, or null when the account has none',
  }),
})
