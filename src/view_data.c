/* The view model's data: the words for its states, causes and event kinds. */
#include "view_data.h"

#include "procstat.h"

int view_proc_state_rank(char state)
{
	return procstat_state_rank(state);
}

const char *view_state_name(enum view_state st)
{
	switch (st) {
	case VIEW_EMPTY:
		return "EMPTY";
	case VIEW_STARTING:
		return "STARTING";
	case VIEW_IDLE:
		return "IDLE";
	case VIEW_BUSY:
		return "BUSY";
	case VIEW_STOPPING:
		return "STOPPING";
	case VIEW_EXITED:
		return "EXITED";
	case VIEW_BACKOFF:
		return "BACKOFF";
	case VIEW_STOPPED:
		return "STOPPED";
	}
	return "?";
}

const char *view_cause_name(enum view_cause c)
{
	switch (c) {
	case VIEW_CAUSE_NONE:
		return "crash";
	case VIEW_CAUSE_USER:
		return "user";
	case VIEW_CAUSE_JOIN:
		return "join";
	case VIEW_CAUSE_JOIN_TIMEOUT:
		return "join-timeout";
	case VIEW_CAUSE_RECYCLE:
		return "recycle";
	case VIEW_CAUSE_END:
		return "end";
	case VIEW_CAUSE_RESTART:
		return "restart";
	case VIEW_CAUSE_SHUTDOWN:
		return "shutdown";
	case VIEW_CAUSE_TIMEOUT:
		return "timeout";
	}
	return "?";
}

const char *view_event_kind_name(enum view_event_kind k)
{
	switch (k) {
	case VIEW_EVENT_WORKER_STARTED:
		return "worker_started";
	case VIEW_EVENT_WORKER_EXITED:
		return "worker_exited";
	case VIEW_EVENT_ITEM_FAILED:
		return "item_failed";
	case VIEW_EVENT_ITEM_RETRIED:
		return "item_retried";
	case VIEW_EVENT_NOTICE:
		return "notice";
	case VIEW_EVENT_STOP:
		return "stop";
	}
	return "?";
}
