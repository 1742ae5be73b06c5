/*
 * dr_legacy_stamp: a Mosquitto 2.0 plugin that names the publisher of every message on the
 * legacy shared topic, so that the ingest bridge can refuse a reading for a VEN the gateway
 * does not own (docs/security.md, "Legacy gateways").
 *
 * A message published on a topic ending in `plugin_opt_legacy_topic` (as a whole level) is
 * re-routed to `<topic>/<username>`. The broker has already checked the publisher's ACL on the
 * original topic; nobody may write `<topic>/+` directly, so the last level cannot be forged.
 * A username that is not a valid topic level (empty, or with `/`, `+`, `#`) is refused.
 *
 * Why a plugin: a subscriber never learns who published a message, and Mosquitto 2.0.11's
 * `mount_point` takes no `%u` (measured); MOSQ_EVT_MESSAGE is the broker's own hook for this.
 * Built by dr_infra.broker_plugin with gcc against Debian's mosquitto-dev headers.
 */
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

static mosquitto_plugin_id_t *plugin_id = NULL;
static char *legacy_topic = NULL;

static int ends_with_level(const char *topic, const char *suffix)
{
	size_t topic_len = strlen(topic), suffix_len = strlen(suffix);
	if(topic_len < suffix_len || strcmp(topic + topic_len - suffix_len, suffix) != 0){
		return 0;
	}
	return topic_len == suffix_len || topic[topic_len - suffix_len - 1] == '/';
}

static int on_message(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_message *ed = event_data;
	const char *username;
	char *stamped;
	size_t len;

	(void)event;
	(void)userdata;
	if(!ends_with_level(ed->topic, legacy_topic)){
		return MOSQ_ERR_SUCCESS;
	}
	username = mosquitto_client_username(ed->client);
	if(username == NULL || username[0] == '\0' || strpbrk(username, "/+#") != NULL){
		return MOSQ_ERR_ACL_DENIED;
	}
	len = strlen(ed->topic) + 1 + strlen(username) + 1;
	stamped = mosquitto_malloc(len);
	if(stamped == NULL){
		return MOSQ_ERR_NOMEM;
	}
	strcpy(stamped, ed->topic);
	strcat(stamped, "/");
	strcat(stamped, username);
	mosquitto_free(ed->topic); /* the broker takes the new topic and does not free the old one */
	ed->topic = stamped;
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	for(int i = 0; i < supported_version_count; i++){
		if(supported_versions[i] == 5){
			return 5;
		}
	}
	return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **user_data, struct mosquitto_opt *opts, int opt_count)
{
	(void)user_data;
	for(int i = 0; i < opt_count; i++){
		if(strcmp(opts[i].key, "legacy_topic") == 0){
			legacy_topic = opts[i].value;
		}
	}
	if(legacy_topic == NULL || legacy_topic[0] == '\0'){
		mosquitto_log_printf(MOSQ_LOG_ERR, "dr_legacy_stamp: plugin_opt_legacy_topic is required");
		return MOSQ_ERR_INVAL;
	}
	plugin_id = identifier;
	return mosquitto_callback_register(plugin_id, MOSQ_EVT_MESSAGE, on_message, NULL, NULL);
}

int mosquitto_plugin_cleanup(void *user_data, struct mosquitto_opt *opts, int opt_count)
{
	(void)user_data;
	(void)opts;
	(void)opt_count;
	return mosquitto_callback_unregister(plugin_id, MOSQ_EVT_MESSAGE, on_message, NULL);
}
