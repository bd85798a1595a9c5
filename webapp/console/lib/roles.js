// Which console sections each role gets. The API enforces all of this; the
// console only hides what would answer 403 anyway.
export const SECTIONS = {
  queue: ['admin', 'counsellor', 'school_psychologist'],
  referrals: ['admin', 'counsellor', 'school_psychologist'],
  handoff: ['admin', 'counsellor', 'school_psychologist'],
  campaigns: ['admin', 'counsellor', 'school_psychologist', 'teacher', 'viewer'],
  campaignsManage: ['admin', 'school_psychologist'],
  stats: ['admin', 'counsellor', 'school_psychologist', 'viewer'],
  activities: ['admin', 'counsellor', 'school_psychologist'],
  admin: ['admin'],
  instruments: ['admin', 'counsellor', 'school_psychologist', 'teacher', 'viewer'],
}

export function can(role, section) {
  return (SECTIONS[section] || []).includes(role)
}

// home is where a role lands after sign-in.
export function homeFor(role) {
  if (can(role, 'queue')) return '/queue'
  return '/campaigns'
}
