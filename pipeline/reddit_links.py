"""Reddit submission dumps -> the WebText URL table: link posts with at least 3 karma, filtered by
date window and blocklists, URLs normalised and merged with summed karma, subreddits and first-seen
time (GPT-2, Radford et al. 2019, 2.1)."""
import sys

from pipeline.webtext.links_job import RedditLinksJob

if __name__ == "__main__":
    sys.exit(RedditLinksJob().main())
