// The reliability figures of one run: per phase, requests sent, succeeded, refused/retried, lost, duplicated.
export interface PhaseFigures {
  phase: string
  /** Requests sent through nginx (WeChat's pushes and notifications, clients' API calls). */
  sent: number
  /** Answered as intended (2xx; a notification answered SUCCESS; a push answered in time). */
  succeeded: number
  /** Answered FAIL or 5xx, or not answered, and therefore retried (by WeChat or the client). */
  retried: number
  /** HTTP 5xx answers (nginx or a service). */
  http5xx: number
  /** Effects that should exist and do not (a payment WeChat made that app never recorded, a lost event). */
  lost: number
  /** Effects that happened more than once (a second ledger record, credits counted twice). */
  duplicated: number
  notes: string
}

export interface Figures {
  phase(name: string): PhaseFigures
  all(): PhaseFigures[]
  totals(): PhaseFigures
  table(): string
}

function zeroFigures(phase: string): PhaseFigures {
  return { phase, sent: 0, succeeded: 0, retried: 0, http5xx: 0, lost: 0, duplicated: 0, notes: '' }
}

export function createFigures(): Figures {
  const phases: PhaseFigures[] = []
  const figures: Figures = {
    phase(name) {
      let phase = phases.find((item) => item.phase === name)
      if (phase === undefined) {
        phase = zeroFigures(name)
        phases.push(phase)
      }
      return phase
    },
    all: () => [...phases],
    totals() {
      const total = zeroFigures('total')
      for (const phase of phases) {
        total.sent += phase.sent
        total.succeeded += phase.succeeded
        total.retried += phase.retried
        total.http5xx += phase.http5xx
        total.lost += phase.lost
        total.duplicated += phase.duplicated
      }
      return total
    },
    table() {
      const rows = [...phases, figures.totals()].map((phase) => [
        phase.phase,
        String(phase.sent),
        String(phase.succeeded),
        String(phase.retried),
        String(phase.http5xx),
        String(phase.lost),
        String(phase.duplicated),
        phase.notes,
      ])
      const header = [
        'phase',
        'sent',
        'succeeded',
        'FAIL/5xx → retried',
        '5xx',
        'lost',
        'duplicated',
        'notes',
      ]
      const line = (cells: string[]) => `| ${cells.join(' | ')} |`
      return [
        line(header),
        line(header.map((cell, index) => (index >= 1 && index <= 6 ? '---:' : '---'))),
        ...rows.map(line),
      ].join('\n')
    },
  }
  return figures
}
