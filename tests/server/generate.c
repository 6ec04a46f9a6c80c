/* generate.c: the seed format's "generate" member (tests/data/README.md):
 * deterministic agents, visitors, OPEN P2S conversations with every agent as
 * a member, their history and unacked pushes, from a few records to hundreds
 * of thousands, for scale tests and benchmarks. Records are built directly
 * (no JSON round trip) so big scenarios load in seconds.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <string.h>
#include "ppms-internal.h"

#define MAX_CONVERSATIONS  2000000
#define MAX_MESSAGES       20000000
#define CONVERSATION_STEP  G_USEC_PER_SEC   /* between conversations' last activities */
#define MESSAGE_STEP       1000             /* between messages of a conversation (1 ms) */
#define DEFAULT_START_TIME G_GINT64_CONSTANT (1767225600000000)   /* 2026-01-01 00:00:00 UTC */

typedef struct {
  gint64 agents, visitors, conversations, messages_per_conversation;
  gint64 long_conversation_messages, unacked_per_conversation, seed, start_time;
} GenerateSpec;

typedef struct {
  PpmsServer *server;
  GenerateSpec spec;
  GRand *rand;
  guint64 counter;          /* makes every generated uuid unique */
  GPtrArray *agents;        /* PpmsUser*, oldest first */
  GPtrArray *visitors;      /* PpmsUser* */
  char *agent_names;        /* the visitor's view of a conversation */
  char *agents_icon;
} Generator;

/* ---- The spec ---- */

/* An optional non-negative integer member; FALSE (error set) when ill-typed. */
static gboolean
spec_int (JsonObject *o, const char *name, gint64 fallback, gint64 max, gint64 *out, GError **error)
{
  JsonNode *node = json_object_get_member (o, name);

  *out = fallback;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64
      || json_node_get_int (node) < 0 || json_node_get_int (node) > max)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "generate.%s must be an integer from 0 to %" G_GINT64_FORMAT, name, max);
      return FALSE;
    }
  *out = json_node_get_int (node);
  return TRUE;
}

static gboolean
has_agent (PpmsServer *server)
{
  g_autoptr (GPtrArray) agents = ppms_service_users (server);
  return agents->len > 0;
}

static gboolean
parse_spec (PpmsServer *server, JsonObject *o, GenerateSpec *spec, GError **error)
{
  gint64 visitors_default;

  if (!spec_int (o, "agents", has_agent (server) ? 0 : 1, 1000, &spec->agents, error)
      || !spec_int (o, "conversations", -1, MAX_CONVERSATIONS, &spec->conversations, error)
      || !spec_int (o, "visitors", -1, MAX_CONVERSATIONS, &spec->visitors, error)
      || !spec_int (o, "messages_per_conversation", 0, MAX_MESSAGES, &spec->messages_per_conversation, error)
      || !spec_int (o, "long_conversation_messages", 0, MAX_MESSAGES, &spec->long_conversation_messages, error)
      || !spec_int (o, "unacked_per_conversation", 0, MAX_MESSAGES, &spec->unacked_per_conversation, error)
      || !spec_int (o, "seed", 1, G_MAXUINT32, &spec->seed, error)
      || !spec_int (o, "start_time", DEFAULT_START_TIME, G_MAXINT64 / 2, &spec->start_time, error))
    return FALSE;
  visitors_default = spec->conversations;
  if (spec->conversations < 0)
    spec->conversations = spec->visitors < 0 ? 0 : spec->visitors;
  if (spec->visitors < 0)
    spec->visitors = visitors_default < 0 ? 0 : visitors_default;
  if (spec->conversations > 0 && spec->visitors == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "generate: conversations need visitors");
      return FALSE;
    }
  if (spec->conversations * spec->messages_per_conversation + spec->long_conversation_messages > MAX_MESSAGES)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "generate: more than %d messages",
                   MAX_MESSAGES);
      return FALSE;
    }
  return TRUE;
}

/* ---- Records ---- */

/* uuid1-like: random time fields, version 1, a counter as the node. */
static char *
next_uuid (Generator *g)
{
  guint32 time_low = g_rand_int (g->rand);
  guint32 time_mid = g_rand_int (g->rand) & 0xffff;
  guint32 clock = 0x8000 | (g_rand_int (g->rand) & 0x3fff);

  g->counter++;
  return g_strdup_printf ("%08x-%04x-11f1-%04x-%012" G_GINT64_MODIFIER "x", time_low, time_mid, clock,
                          (guint64) g->counter & G_GUINT64_CONSTANT (0xffffffffffff));
}

static PpmsUser *
new_user (Generator *g, const char *email, const char *fullname, gint64 time)
{
  PpmsUser *u = g_new0 (PpmsUser, 1);

  u->uuid = next_uuid (g);
  u->user_email = g_strdup (email);
  u->user_fullname = g_strdup (fullname);
  u->user_name = g_strdup (email);
  u->user_language = g_strdup ("en_US");
  u->user_icon = ppms_identicon_url (g->server, email);
  u->createtime = u->updatetime = time;
  return u;
}

static void
generate_agents (Generator *g)
{
  for (gint64 k = 1; k <= g->spec.agents; k++)
    {
      g_autofree char *email = g_strdup_printf ("agent%" G_GINT64_FORMAT "@generated.test", k);
      g_autofree char *name = g_strdup_printf ("Agent %" G_GINT64_FORMAT, k);
      /* Distinct, increasing times keep the agents' order stable. */
      PpmsUser *u = new_user (g, email, name, g->spec.start_time - (g->spec.agents - k + 1) * G_USEC_PER_SEC);

      u->user_password = ppms_sha1_hex ("agentpass");
      u->is_service_user = TRUE;
      /* A team without an owner gets agent 1 as its owner. */
      u->is_owner_user = g->server->app->user_uuid == NULL;
      u->user_status = g_strdup (u->is_owner_user ? "OWNER_2" : "SERVICE");
      if (u->is_owner_user)
        g->server->app->user_uuid = g_strdup (u->uuid);
      else
        {
          u->extra = json_object_new ();
          json_object_set_boolean_member (u->extra, "is_anonymous_user", FALSE);
        }
      ppms_store_add_user (g->server, u);
    }
  g->agents = ppms_service_users (g->server);
}

static void
generate_visitors (Generator *g)
{
  g->visitors = g_ptr_array_sized_new ((guint) g->spec.visitors);
  for (gint64 v = 0; v < g->spec.visitors; v++)
    {
      g_autofree char *email = g_strdup_printf ("visitor%" G_GINT64_FORMAT "@generated.test", v);
      g_autofree char *name = g_strdup_printf ("Visitor %" G_GINT64_FORMAT, v);
      /* Distinct times keep dumps in the same order. */
      PpmsUser *u = new_user (g, email, name, g->spec.start_time - G_USEC_PER_SEC - g->spec.visitors + v);

      u->user_status = g_strdup ("THIRDPARTY");
      ppms_store_add_user (g->server, u);
      g_ptr_array_add (g->visitors, u);
    }
}

/* The visitor's view: the agents' names and, for several agents, the
 * identicon of their uuids (as the distributor names it). */
static void
prepare_group_view (Generator *g)
{
  g_autoptr (GString) names = g_string_new (NULL), uuids = g_string_new (NULL);
  g_autofree char *hash = NULL;

  for (guint i = 0; i < g->agents->len; i++)
    {
      PpmsUser *a = g_ptr_array_index (g->agents, i);
      g_string_append_printf (names, "%s%s", i ? "," : "", a->user_fullname ? a->user_fullname : "");
      g_string_append (uuids, a->uuid);
    }
  g->agent_names = g_strdup (names->str);
  if (g->agents->len == 1)
    g->agents_icon = g_strdup (((PpmsUser *) g_ptr_array_index (g->agents, 0))->user_icon);
  else
    {
      hash = ppms_sha1_hex (uuids->str);
      g->agents_icon = g_strdup_printf ("%s/identicon/identicon/%s.png", ppms_server_base (g->server), hash);
    }
}

/* The compact push form (protocol 7.3) of a generated TEXT: every string is
 * a uuid or generated ASCII, so no escaping is needed. */
static char *
compact_body (PpmsMessage *m, gboolean s2p)
{
  g_autofree char *ts = ppms_format_ts (m->createtime);

  return g_strdup_printf ("{\"id\": \"%s\", \"fi\": \"%s\", \"ti\": \"%s\", \"ft\": \"DU\", \"tt\": \"%s\", "
                          "\"mt\": \"NOTI\", \"ms\": \"TEXT\", \"ci\": \"%s\", \"ct\": \"%s\", \"tl\": null, "
                          "\"bo\": \"%s\", \"ts\": %s}",
                          m->uuid, m->from_uuid, s2p ? m->app_uuid : m->to_uuid, s2p ? "AP" : "DU",
                          m->conversation_uuid, m->conversation_type, m->body, ts);
}

/* Message j of conversation c: the visitor writes the even ones, the
 * assigned agent answers the odd ones (S2P). */
static PpmsMessage *
new_message (Generator *g, PpmsConversation *conv, PpmsUser *visitor, PpmsUser *agent,
             gint64 c, gint64 j, gint64 time)
{
  PpmsMessage *m = g_new0 (PpmsMessage, 1);
  gboolean s2p = (j % 2) == 1 && agent != NULL;

  m->uuid = next_uuid (g);
  m->app_uuid = g_strdup (g->server->app->uuid);
  m->conversation_uuid = g_strdup (conv->uuid);
  m->conversation_type = g_strdup (s2p ? "S2P" : "P2S");
  m->from_uuid = g_strdup (s2p ? agent->uuid : visitor->uuid);
  m->from_type = g_strdup ("DU");
  m->to_uuid = g_strdup (s2p ? visitor->uuid : conv->uuid);
  m->to_type = g_strdup ("DU");
  m->message_type = g_strdup ("NOTI");
  m->message_subtype = g_strdup ("TEXT");
  m->body = s2p ? g_strdup_printf ("Reply %" G_GINT64_FORMAT " in conversation %" G_GINT64_FORMAT, j, c)
                : g_strdup_printf ("Message %" G_GINT64_FORMAT " in conversation %" G_GINT64_FORMAT, j, c);
  m->task_status = g_strdup ("PROCESSED");
  m->createtime = time;
  m->message_body = compact_body (m, s2p);
  ppms_store_add_message (g->server, m);
  return m;
}

static void
add_unacked (Generator *g, PpmsMessage *m)
{
  for (guint i = 0; i < g->agents->len; i++)
    {
      PpmsPush *p = g_new0 (PpmsPush, 1);

      p->uuid = next_uuid (g);
      p->user_uuid = g_strdup (((PpmsUser *) g_ptr_array_index (g->agents, i))->uuid);
      p->message_uuid = g_strdup (m->uuid);
      p->status = g_strdup ("PUSHED");
      p->createtime = m->createtime;
      ppms_store_add_push (g->server, p);
    }
}

static void
add_members (Generator *g, PpmsConversation *conv, PpmsUser *visitor, gint64 last)
{
  for (guint i = 0; i <= g->agents->len; i++)
    {
      gboolean is_visitor = i == g->agents->len;
      PpmsUser *u = is_visitor ? visitor : g_ptr_array_index (g->agents, i);
      PpmsMember *m = ppms_conversation_add_member (conv, u->uuid,
                                                    is_visitor ? g->agent_names : visitor->user_fullname,
                                                    is_visitor ? g->agents_icon : visitor->user_icon);
      g_free (m->uuid);
      m->uuid = next_uuid (g);
      m->createtime = conv->createtime;
      m->updatetime = last;
    }
}

/* Conversation c, whose last activity has rank `rank` (0: the oldest). */
static void
generate_conversation (Generator *g, gint64 c, gint64 rank)
{
  PpmsUser *visitor = g_ptr_array_index (g->visitors, c % g->spec.visitors);
  PpmsUser *agent = g->agents->len ? g_ptr_array_index (g->agents, c % g->agents->len) : NULL;
  gint64 count = c == 0 && g->spec.long_conversation_messages > 0 ? g->spec.long_conversation_messages
                                                                   : g->spec.messages_per_conversation;
  gint64 last = g->spec.start_time + (rank + 1) * CONVERSATION_STEP;
  gint64 first = last - (count > 0 ? count - 1 : 0) * MESSAGE_STEP;
  PpmsConversation *conv = g_new0 (PpmsConversation, 1);
  PpmsMessage *m = NULL;

  conv->uuid = next_uuid (g);
  conv->app_uuid = g_strdup (g->server->app->uuid);
  conv->conversation_type = g_strdup ("P2S");
  conv->user_uuid = g_strdup (visitor->uuid);
  conv->status = g_strdup ("OPEN");
  conv->assigned_uuid = agent ? g_strdup (agent->uuid) : NULL;
  conv->createtime = first - MESSAGE_STEP;
  conv->updatetime = last;
  ppms_store_add_conversation (g->server, conv);
  add_members (g, conv, visitor, last);
  for (gint64 j = 0; j < count; j++)
    {
      m = new_message (g, conv, visitor, agent, c, j, first + j * MESSAGE_STEP);
      if (j >= count - g->spec.unacked_per_conversation)
        add_unacked (g, m);
    }
  conv->latest_task = m ? g_strdup (m->uuid) : NULL;
}

/* Activity ranks (0: the oldest): conversation 0 (the long one) is the most
 * recently active, the others are shuffled. */
static gint64 *
activity_ranks (Generator *g)
{
  gint64 n = g->spec.conversations;
  gint64 *rank = g_new (gint64, MAX (n, 1));

  rank[0] = n - 1;
  for (gint64 i = 1; i < n; i++)
    rank[i] = i - 1;
  for (gint64 i = n - 1; i > 1; i--)   /* Fisher-Yates over rank[1..n-1] */
    {
      gint64 j = 1 + g_rand_int_range (g->rand, 0, (gint32) i);
      gint64 t = rank[i];
      rank[i] = rank[j];
      rank[j] = t;
    }
  return rank;
}

gboolean
ppms_generate_load (PpmsServer *server, JsonObject *spec_object, GError **error)
{
  Generator g = { server };
  gint64 *rank;

  if (!parse_spec (server, spec_object, &g.spec, error))
    return FALSE;
  g.rand = g_rand_new_with_seed ((guint32) g.spec.seed);
  generate_agents (&g);
  generate_visitors (&g);
  prepare_group_view (&g);
  rank = activity_ranks (&g);
  for (gint64 c = 0; c < g.spec.conversations; c++)
    generate_conversation (&g, c, rank[c]);
  g_free (rank);
  g_free (g.agent_names);
  g_free (g.agents_icon);
  g_ptr_array_unref (g.agents);
  g_ptr_array_unref (g.visitors);
  g_rand_free (g.rand);
  return TRUE;
}

gboolean
ppms_server_generate (PpmsServer *server, const char *spec_json, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (!json_parser_load_from_data (parser, spec_json, -1, error))
    return FALSE;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "generate: not a JSON object");
      return FALSE;
    }
  return ppms_generate_load (server, json_node_get_object (root), error);
}
