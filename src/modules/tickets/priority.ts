/**
 * ITIL priority from impact and urgency (1 high, 2 medium, 3 low): priority 1 (critical) to 5 (planning).
 */
const MATRIX: readonly (readonly number[])[] = [
  [1, 2, 3],
  [2, 3, 4],
  [3, 4, 5]
]

export const priorityOf = (impact: number, urgency: number): number => MATRIX[impact - 1]![urgency - 1]!
