/* The artifacts table: content-addressed files under DATA/artifacts. */
#ifndef XENCI_DB_ARTIFACTS_H
#define XENCI_DB_ARTIFACTS_H

/* 0 and *size when the artifact is stored, -ENOENT otherwise. */
int db_artifact_get(const char *sha256, long long *size);
/* Records a stored artifact: 0 (new), 1 (it was there), or -EIO. */
int db_artifact_insert(const char *sha256, long long size);

#endif
