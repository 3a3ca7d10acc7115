"""vlmdoctor: will this vision-language model run here, and if not, what do I change?"""

__version__ = "0.1.0"
