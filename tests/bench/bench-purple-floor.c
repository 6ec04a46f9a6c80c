/* bench-purple-floor.c: what libpurple itself costs per conversation, with
 * no server and no plugin code on the way: in the headless core, 10,000
 * buddies (each in its own contact, as the glue adds them) on an account of
 * this protocol, never connected, then what the glue adds to each (a server
 * alias and a node setting), then what one more status type would cost.
 * Figures are of the live heap (malloc's bytes in use), so the allocator's
 * free pages do not count. This is the floor under compare.py's "plugin RSS
 * per 1,000 conversations", before any window (an IM window needs a
 * connection; Massif of the sign-in has its cost): tests/bench/README.md.
 *
 * Copyright (C) 2026 The purple-ppmessage authors. GPL-2.0-or-later.
 */
#include <malloc.h>
#include <stdio.h>

#include "purple-bench.h"

#include "util.h"

#define BUDDIES 10000

static double
live_heap_bytes (void)
{
  struct mallinfo2 info = mallinfo2 ();

  return (double) (info.uordblks + info.hblkhd);
}

/* Bytes per buddy that step added, shown as a figure. */
static double
step (const char *figure, double *before)
{
  double now = live_heap_bytes ();
  double per_buddy = (now - *before) / BUDDIES;

  bench_figure (figure, per_buddy, "B", NULL, 0);
  *before = now;
  return per_buddy;
}

int
main (void)
{
  PurpleAccount *account;
  PurpleGroup *group;
  PurpleBuddy **buddies = g_new0 (PurpleBuddy *, BUDDIES);
  double heap, buddy, total;

  bench_purple_init ();
  account = harness_add_account ("http://127.0.0.1:1", "agent1@floor.test", NULL);
  group = purple_group_new ("Team Visitors");
  purple_blist_add_group (group, NULL);
  printf ("info the protocol declares %u status types: every buddy's presence has a status for each\n",
          g_list_length (purple_account_get_status_types (account)));

  heap = live_heap_bytes ();
  for (guint i = 0; i < BUDDIES; i++)
    {
      g_autofree char *name = g_uuid_string_random ();
      PurpleContact *contact = purple_contact_new ();

      buddies[i] = purple_buddy_new (account, name, NULL);
      purple_blist_add_contact (contact, group, NULL);
      purple_blist_add_buddy (buddies[i], contact, NULL, NULL);
    }
  buddy = step ("libpurple_buddy_with_contact", &heap);
  total = buddy;

  for (guint i = 0; i < BUDDIES; i++)
    {
      g_autofree char *alias = g_strdup_printf ("Visitor %u", i);

      purple_blist_server_alias_buddy (buddies[i], alias);
      purple_blist_node_set_bool (PURPLE_BLIST_NODE (buddies[i]), "ppm_conversation_buddy", TRUE);
    }
  total += step ("server_alias_and_one_node_setting", &heap);

  /* One more status of a buddy's presence: what each status type costs
   * every buddy. */
  {
    PurpleStatusType *type = purple_account_get_status_type (account, "away");
    GPtrArray *statuses = g_ptr_array_new_with_free_func ((GDestroyNotify) purple_status_destroy);

    for (guint i = 0; i < BUDDIES; i++)
      g_ptr_array_add (statuses, purple_status_new (type, purple_buddy_get_presence (buddies[i])));
    step ("libpurple_status_per_status_type", &heap);
    g_ptr_array_free (statuses, TRUE);
    heap = live_heap_bytes ();
  }

  bench_figure ("libpurple_floor_per_1000_conversations", total * 1000 / 1048576.0, "MiB", NULL, 0);
  printf ("info buddy with contact %.0f B; compare.py's target is 2 MiB (2,097 B) per 1,000\n", buddy);
  g_free (buddies);
  harness_shutdown ();
  return 0;
}
