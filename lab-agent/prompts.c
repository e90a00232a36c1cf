#include "prompts.h"

#include <assert.h>
#include <string.h>

void prompts_init(struct prompts *p, json_t *list)
{
	memset(p, 0, sizeof(*p));
	p->list = json_is_array(list) ? json_incref(list) : json_array();
}

void prompts_release(struct prompts *p)
{
	if (p == NULL)
		return;
	json_decref(p->list);
	p->list = NULL;
}

const char *prompts_expect(const struct prompts *p, size_t i)
{
	const char *s = json_string_value(json_object_get(json_array_get(p->list, i), "expect"));

	return s ? s : "";
}

const char *prompts_send(const struct prompts *p, size_t i)
{
	const char *s = json_string_value(json_object_get(json_array_get(p->list, i), "send"));

	return s ? s : "";
}

static enum prompts_event seen(struct prompts *p, long long now_ms, size_t *index, size_t *used,
			       size_t u)
{
	*index = p->next++;
	*used = u;
	p->tail_len = 0;
	p->answered_ms = now_ms;
	return PROMPTS_SEEN;
}

enum prompts_event prompts_scan(struct prompts *p, const char *data, size_t n, long long now_ms,
				size_t *index, size_t *used)
{
	const char *exp, *hit;
	size_t len, keep;

	*used = n;
	*index = p->next;
	if (p->next >= json_array_size(p->list))
		return PROMPTS_NONE;
	if (p->next > 0 && now_ms - p->answered_ms > PROMPTS_NEXT_MS) {
		p->next = json_array_size(p->list);
		return PROMPTS_EXPIRED;
	}
	exp = prompts_expect(p, p->next);
	len = strlen(exp);
	assert(len > 0 && len <= PROMPTS_EXPECT_MAX); /* netboot_prompt_fields */
	assert(p->tail_len < len);
	if (p->tail_len) {
		/* a prompt that began in an earlier read: the tail and the first
		 * len - 1 bytes of this one (a match there starts in the tail) */
		char joint[2 * PROMPTS_EXPECT_MAX];
		size_t head = n < len - 1 ? n : len - 1;

		memcpy(joint, p->tail, p->tail_len);
		memcpy(joint + p->tail_len, data, head);
		hit = memmem(joint, p->tail_len + head, exp, len);
		if (hit)
			return seen(p, now_ms, index, used,
				    (size_t)(hit - joint) + len - p->tail_len);
	}
	hit = memmem(data, n, exp, len);
	if (hit)
		return seen(p, now_ms, index, used, (size_t)(hit - data) + len);
	/* keep the last len - 1 bytes of what came */
	if (n >= len - 1) {
		memcpy(p->tail, data + n - (len - 1), len - 1);
		p->tail_len = len - 1;
	} else {
		keep = p->tail_len + n > len - 1 ? len - 1 - n : p->tail_len;
		memmove(p->tail, p->tail + p->tail_len - keep, keep);
		memcpy(p->tail + keep, data, n);
		p->tail_len = keep + n;
	}
	return PROMPTS_NONE;
}
