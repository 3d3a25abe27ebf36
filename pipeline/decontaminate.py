"""Benchmark decontamination (GPT-3 Appendix C): cut every 13-gram shared with an evaluation set out
of the training documents, with 200 characters around it; report each evaluation set's clean subset."""
import sys

from pipeline.neardup.decontam_job import DecontaminateJob

if __name__ == "__main__":
    sys.exit(DecontaminateJob().main())
