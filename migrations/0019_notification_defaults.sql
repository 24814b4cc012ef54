-- hand-written below
-- Default rules for the events added after 0010 (admins may edit or disable them): the requester hears
-- the decision on their approval; the teams owning the CIs a change touches hear when it is scheduled
-- and, with the change team's manager, when it conflicts with the change calendar; the release team's
-- manager hears when a release is ready; the layer a ticket is escalated to hears of the escalation.
INSERT INTO "notification_rules" ("id", "event", "audience", "channel", "kinds", "max_priority") VALUES
  (gen_random_uuid(), 'approval.decided', 'requester', 'mail', NULL, NULL),
  (gen_random_uuid(), 'change.scheduled', 'ci_owner_team', 'mail', NULL, NULL),
  (gen_random_uuid(), 'change.conflict', 'ci_owner_team', 'mail', NULL, NULL),
  (gen_random_uuid(), 'change.conflict', 'team_manager', 'mail', NULL, NULL),
  (gen_random_uuid(), 'release.ready', 'team_manager', 'mail', NULL, NULL),
  (gen_random_uuid(), 'sla.escalation', 'layer', 'mail', NULL, NULL)
ON CONFLICT DO NOTHING;
