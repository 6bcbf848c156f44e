/* Persistent profiles (--profile-save, --profile-use): the trace heads at
 * which a run built traces, named by module (its path and GNU build-id)
 * and file offset, so that a later run of the same code traces them on
 * their first execution instead of after hundreds. Under the lock. */
#ifndef HOTPATH_PROFILE_H
#define HOTPATH_PROFILE_H
#include <stdbool.h>
#include <stdint.h>

/* Reads --profile-use's file; a missing or unreadable file is a notice, not
 * an error (the run goes on without it). */
void hp_profile_load(const char *file);
/* Whether the head at guest pc is in the loaded profile (for a module whose
 * build-id changed since, never; that is said once per module). */
bool hp_profile_wants(uintptr_t pc);
/* A trace was built at head pc (what --profile-save records). */
void hp_profile_note_trace(uintptr_t pc);
/* Adds this run's heads to file, keeping the runs it holds (a module whose
 * build-id changed loses its old entries); locked against other processes
 * saving at the same time. False (errno set) if it cannot be written. */
bool hp_profile_save(const char *file);

#endif
