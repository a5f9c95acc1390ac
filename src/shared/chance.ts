/**
 * Chance level: an accuracy within 2 points of guessing (1 in N classes) usually means the model
 * gets its input scaled, or its classes ordered, differently from how it was trained. One rule
 * for the CLI and the app.
 */
export function chanceLevel(accuracy: number, classes: number): number | undefined {
  if (classes < 2 || accuracy > 1 / classes + 0.02) return undefined;
  return 1 / classes;
}
