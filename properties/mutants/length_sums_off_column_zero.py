from properties.mutants._kernel_patches import mutant

fill_draft_extend_metadata = mutant(__name__)
