// A WeChat call refused locally, before any request, because its input breaks WeChat's rules.

/** One broken rule, located by a path into the input (`button[1].sub_button[0].name`). */
export interface WeChatRequestProblem {
  path: string
  problem: string
}

export class WeChatInvalidRequestError extends Error {
  override readonly name = 'WeChatInvalidRequestError'
  /** The API path that was not called, e.g. `/cgi-bin/menu/create`. */
  readonly api: string
  readonly problems: readonly WeChatRequestProblem[]

  constructor(api: string, problems: readonly WeChatRequestProblem[]) {
    super(`${api} not called: ${problems.map((p) => `${p.path} ${p.problem}`).join('; ')}`)
    this.api = api
    this.problems = problems
  }
}
