// The zero-YAML project entry point: one side-effect import per script (docs/scripts-compatibility.md, "Entry points").
// The CLI reads these lines to find the scripts; the integration id is the first path segment.
import './google-calendar/syncs/events.js';
import './google-calendar/actions/list-events.js';
import './google-calendar/actions/get-event.js';
import './google-calendar/actions/create-event.js';
import './google-calendar/actions/update-event.js';
import './google-calendar/actions/delete-event.js';
import './google-calendar/actions/check-availability.js';
import './google-mail/syncs/threads.js';
import './google-mail/actions/send-email.js';
import './google-mail/actions/reply.js';
