// A zero-YAML project (docs/functions.md, "Writing scripts"): one import per script; the folder is the integration id.
import './helpdesk/syncs/tickets.js';
import './helpdesk/actions/create-ticket.js';
