// Closing outcomes the queue accepts (POST /warnings/{id}/transition).
export const OUTCOMES = ['no_risk', 'counselled', 'referred_medical', 'crisis_intervened', 'unreachable', 'declined', 'duplicate']
